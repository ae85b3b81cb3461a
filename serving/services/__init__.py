"""gRPC servicers, one module per v1 service. Handlers convert (serving.convert), call the
store or an engine off the event loop, and convert back; errors map in serving.errors."""
