"""Protobuf <-> domain conversion, one module per service. Protobuf types stop here."""
