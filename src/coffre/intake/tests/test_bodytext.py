"""The text of an HTML body."""

from coffre.intake.bodytext import html_to_text


def test_blocks_cells_and_links():
    html = (
        "<h1>Facture</h1><p>Montant&nbsp;: <b>12&euro;</b></p><table><tr><td>A</td><td>1</td></tr>"
        "<tr><td>B</td><td>2</td></tr></table><p><a href='https://x.example/f'>voir</a> "
        "<a href='mailto:a@b.be'>a@b.be</a></p>"
    )

    assert (
        html_to_text(html) == "Facture\n\nMontant\xa0: 12€\n\nA\t1\nB\t2\n\nvoir <https://x.example/f> a@b.be"
    )


def test_scripts_styles_and_head_are_dropped():
    html = "<html><head><title>t</title><style>p{}</style></head><body><script>x()</script>ok</body></html>"

    assert html_to_text(html) == "ok"


def test_broken_html_gives_what_it_can():
    assert html_to_text("<p>un <b>deux <i>trois</p> </div></span>") == "un deux trois"
    assert html_to_text("<p>un<br>deux</p><ul><li>a</li><li>b</ul>") == "un\ndeux\n\na\nb"
