"""Where accepted commands wait for the worker: SQS in AWS, an in-process queue locally."""
