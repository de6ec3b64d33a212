"""Local tooling: deploy a CDK app into a moto server with the real CDK CLI and run its functions there.

Nothing in this package reaches AWS: every client and child process gets a
loopback endpoint and fake credentials (see ``server.local_aws_environment``).
Install it with the ``local`` extra (boto3 and moto's server).
"""
