"""Generated from proto/turnwise/v1 by scripts/gen_proto.py. Do not edit."""
