"""Expert review (专家评审). Issue 5 owns this module."""
