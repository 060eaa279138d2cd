#!/bin/bash
# Shared by this repository's Buildkite scripts.

# install_pulumi: installs the Pulumi CLI at $PULUMI_VERSION (the SDK's version) and the project's packages.
install_pulumi() {
  echo "--- :pulumi: Installing the Pulumi CLI ${PULUMI_VERSION:?}"
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"
  export PATH="$HOME/.pulumi/bin:$PATH"
  npm ci
}
