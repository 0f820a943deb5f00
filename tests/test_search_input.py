"""What Pagefind is handed: each searched page with its tables emptied."""

from __future__ import annotations

from generator.search import empty_excluded


def test_emptying_tables_keeps_their_opening_tags_and_everything_around_them() -> None:
    page = (
        '<main><h2 id="a">A</h2><table id="compat" class="data"><tr><td>1×</td></tr></table>'
        "<p>between</p><table><caption>c</caption></table><p>after</p></main>"
    )
    assert empty_excluded(page) == (
        '<main><h2 id="a">A</h2><table id="compat" class="data"></table>'
        "<p>between</p><table></table><p>after</p></main>"
    )


def test_the_chart_and_launch_commands_are_emptied_too() -> None:
    page = (
        '<figure class="chart"><svg><title>Bar chart</title></svg><figcaption>c</figcaption>'
        '</figure><dl class="facts"><dt>Layers</dt><dd>80</dd></dl>'
        '<dl class="commands">\n<dt>vLLM</dt>\n<dd><pre><code>vllm serve x</code></pre></dd>\n</dl>'
    )
    assert empty_excluded(page) == (
        '<figure class="chart"></figure><dl class="facts"><dt>Layers</dt><dd>80</dd></dl>'
        '<dl class="commands"></dl>'
    )


def test_a_page_without_tables_is_handed_over_unchanged() -> None:
    page = "<main><p>No tables here: &lt;table&gt; is only text.</p></main>"
    assert empty_excluded(page) == page
