"""The check of the Lambda artifact `sam build` made (.ci/artifact): contents, compiled modules, imports."""
