"""Stand-ins for the outside APIs (Discord's REST API and gateway, GitHub's REST API and webhooks), served
on loopback for the demo, the tests and the benchmark."""
