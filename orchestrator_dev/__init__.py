"""Development-only code beside the runtime package: stand-in APIs, the demo, the artifact check and the
benchmark. Nothing in `orchestrator` imports it at run time, and the Lambda artifact leaves it out."""
