//go:build tools

// Package tools names the programs build.sh builds from this module, so that
// `go mod tidy` keeps their dependencies: the Velero server and CLI, and the
// AWS object store plugin Velero loads to reach S3-compatible storage.
package tools

import (
	_ "github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws"
	_ "github.com/vmware-tanzu/velero/cmd/velero"
)
