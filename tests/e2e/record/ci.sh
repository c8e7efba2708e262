#!/bin/sh
# A CI job as users write one: bring the services up, let the client run
# against the server, take everything down, and exit with the client's code.
# COMPOSE_FILE says which files (the workflow and an override);
# COMPOSE_PROJECT_NAME names the project.
set -u
docker-compose up --abort-on-container-exit --exit-code-from client
code=$?
docker-compose down --timeout 5 >/dev/null 2>&1
exit $code
