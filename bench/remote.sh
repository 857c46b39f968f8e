#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/remote.sh: mailboxes across hosts through RabbitMQ (docs/remote.md)
# against rabbitmq-c used directly, in the same run (bench/remote.py has the
# details).  Skipped with the reason when rabbitmq-server or librabbitmq-dev
# is missing (scripts/deps.sh installs both).
set -u
cd "$(dirname "$0")/.." || exit 1
WARD=${1:-${WARD:-$PWD/build/src/ward}}
exec /usr/bin/python3 bench/remote.py "$WARD"
