"""The local runtime: template.yaml on one machine, no AWS account, no Docker."""
