"""Turnwise's shared foundations: the exception tree (``turnwise.errors``) and the
generated gRPC contract (``turnwise.v1``, generated from ``proto/turnwise/v1``)."""
