// Command etcd runs the etcd server from its published module, so the test bed
// needs nothing but the Go module proxy to build it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
