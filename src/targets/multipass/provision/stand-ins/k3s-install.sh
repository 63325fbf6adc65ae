#!/bin/bash
# STAND-IN for the upstream k3s installer (get.k3s.io) in the Debian container: installs the
# stand-in k3s, writes a kubeconfig where k3s writes its own, records INSTALL_K3S_EXEC, and
# enables the unit through the (stand-in) systemctl, as the installer does.
set -euo pipefail
here=$(dirname "$0")
install -m 0755 "$here/k3s" /usr/local/bin/k3s
mkdir -p /etc/rancher/k3s
printf '%s\n' "${INSTALL_K3S_EXEC:-}" >/etc/rancher/k3s/install-exec
cat >/etc/rancher/k3s/k3s.yaml <<'YAML'
apiVersion: v1
kind: Config
clusters:
  - name: default
    cluster:
      server: https://127.0.0.1:6443
contexts:
  - name: default
    context: { cluster: default, user: default }
current-context: default
users:
  - name: default
    user: { token: stand-in }
YAML
chmod 0600 /etc/rancher/k3s/k3s.yaml
systemctl enable --now k3s
echo 'stand-in k3s installed'
