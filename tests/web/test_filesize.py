"""File sizes are written one way on every page: the `filesize` filter."""

from pathlib import Path

from challenge.web.numfmt import format_size


def test_sizes_in_powers_of_1024_with_one_decimal():
    assert [format_size(n) for n in (0, 1023, 1536, 5 * 1024 * 1024, 3 * 1024 ** 3 // 2)] == [
        "0 B", "1023 B", "1.5 KB", "5.0 MB", "1.5 GB"]
    assert format_size(None) == ""


def test_no_template_writes_a_size_its_own_way():
    templates = Path(__file__).resolve().parents[2] / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert "/ 1024)" not in text and "filesizeformat" not in text, path
