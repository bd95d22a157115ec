"""Before a first deploy: what already exists where the product would write."""
