"""IAM in the sandbox: every signed request is decided by a kept evaluator library (evaluator.mjs)
from the caller's real policies, the way AWS would decide it; see docs/ARCHITECTURE.md."""
