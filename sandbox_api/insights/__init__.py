"""Insights: questions across sectors, answered by aggregation in the database."""
