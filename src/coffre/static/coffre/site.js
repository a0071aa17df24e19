// Progressive enhancement only: every page works without JavaScript.
// "Select all" checkboxes of bulk forms.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.matches && box.matches("input[data-select-all]")) {
    var form = box.form;
    form.querySelectorAll("input[name='" + box.dataset.selectAll + "']").forEach(function (item) {
      item.checked = box.checked;
    });
  }
});
