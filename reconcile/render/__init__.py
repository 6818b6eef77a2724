"""Plans, drift reports and apply results as text, JSON and markdown."""
