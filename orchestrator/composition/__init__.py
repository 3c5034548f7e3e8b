"""Where settings become running parts: the one place the bot is wired.

`web.build_web_app` (the function URL's and `serve`'s routes: no httpx, nothing of the worker, as
the ACK's cold path needs) and `worker.build_worker` / `worker.build_alerter` (the worker and
the ops channel, with their HTTP clients) are used by the three Lambda handlers, `serve`,
`gateway`, the demo, the benchmark and the tests. Clocks and HTTP transports are parameters, so
a test or the benchmark builds exactly what production runs, with its own time and network.
"""
