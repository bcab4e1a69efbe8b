"""Tools for dry-running a pipeline without a model: a scripted OpenAI-compatible server.

`eval.testing.stub_server.StubServer` answers chat completions with scripted replies (by default the
gold action of the step it finds in the prompt) and can inject latency, HTTP 500s, timeouts and
dropped connections. Point `phone-r1 eval run --base-url`, `phone-r1 ui --base-url` or your own client
at it to check a set-up end to end before a GPU server exists:

    python -m eval.testing.stub_server --episodes data/demo/test --port 8001

The test suite and the benchmarks use the same server.
"""
