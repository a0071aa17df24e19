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
// A bulk form's "select all" box is unticked as soon as one of its items is.
document.addEventListener("change", function (event) {
  var item = event.target;
  if (!item.form || item.type !== "checkbox" || item.checked || item.matches("input[data-select-all]")) {
    return;
  }
  var all = item.form.querySelector("input[data-select-all='" + item.name + "']");
  if (all) {
    all.checked = false;
  }
});
