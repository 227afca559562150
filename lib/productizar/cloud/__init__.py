"""The cloud side and the team's repositories: AWS clients, the CloudFormation template and its scans, the
stack, the pipeline's files, the coordinator configs and the Glue job."""
