"""Pure collections rules: no boto3, no I/O, nothing of ours but the domain itself."""
