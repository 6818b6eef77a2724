"""Reading reconcile.yaml and manifest files into checked, located values."""
