/**
 * The least-privilege RBAC manifest for a remote cluster, as `skiff cluster rbac` prints
 * it and as deploy/rbac/skiff-remote.yaml holds it (a unit test keeps the two equal).
 * Kept here as text, not read from disk, so the functions and the command line carry it
 * in their bundles. No imports: the command line prints it without loading anything else.
 */
export const REMOTE_RBAC_MANIFEST = `# Skiff's access to a remote cluster: everything backup, rediscovery (sync), expiry,
# restore and the readiness checks do there, and nothing else. Apply it with
# \`kubectl apply -f\`, then give Skiff a token of the account, e.g. from
# \`kubectl create token skiff -n skiff-system --duration 8760h\`, in the cluster's \`auth\`.
# \`skiff cluster rbac\` prints this file; \`skiff cluster readiness NAME\` checks that the
# credentials Skiff holds can do exactly what its rules grant. The comment above each
# rule starts with the jobs that need it: a missing right of backup blocks a scheduled
# backup (with \`readiness: block\`), one of the other jobs is a warning.
apiVersion: v1
kind: Namespace
metadata:
  name: skiff-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: skiff
  namespace: skiff-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: skiff-remote
rules:
  # backup, sync, expiry, restore, readiness: read what is backed up (every type, Secrets
  # included, and the definitions of custom resources), PersistentVolumes, StorageClasses,
  # snapshot classes and contents, PVCs that still depend on a snapshot, the storage
  # system's own records (Longhorn backups and volumes) and Nodes.
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: [get, list]
  # backup, sync, expiry: cut the CSI snapshots of PVCs and remove those of a failed run;
  # bind repaired contents; delete the VolumeSnapshot of an expired content.
  - apiGroups: [snapshot.storage.k8s.io]
    resources: [volumesnapshots]
    verbs: [create, patch, delete]
  # backup, sync, expiry: label contents with their backup; create static contents for
  # rediscovered backups and repaired handles; flip Retain to Delete and delete them on
  # expiry, or create a temporary one to free a snapshot no cluster holds.
  - apiGroups: [snapshot.storage.k8s.io]
    resources: [volumesnapshotcontents]
    verbs: [create, patch, delete]
  # restore: create every kind of object a backup holds, and update or patch existing
  # ones under existingResourcePolicy: update.
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: [create, update, patch]
  # restore: Roles and bindings in a backup may grant rights Skiff lacks (delete, say);
  # Kubernetes lets them be created only with escalate and bind.
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles, clusterroles]
    verbs: [escalate, bind]
  # readiness: ask the API server what these credentials may do.
  - apiGroups: [authorization.k8s.io]
    resources: [selfsubjectrulesreviews, selfsubjectaccessreviews]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: skiff-remote
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: skiff-remote
subjects:
  - kind: ServiceAccount
    name: skiff
    namespace: skiff-system
`;
