"""What every area's web layer shares. Importing it registers the bounded `int` path convertor."""

from challenge.web import convertors  # noqa: F401 - registers `{name:int}` for every route table
