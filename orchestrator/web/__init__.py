"""HTTP routes shared by the Lambda function URL and the local server."""
