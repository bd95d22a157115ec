"""Where each identity stands (the phase gate)."""
