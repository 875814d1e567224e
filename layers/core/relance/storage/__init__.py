"""DynamoDB and S3 access: one module per aggregate, every key built in ``keys``."""
