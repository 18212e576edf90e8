"""Delivery (攻关与验收): stage deliverables, projects, progress reports, mid-term and acceptance reviews."""
