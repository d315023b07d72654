package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/socketx/socketx-server/mte"
)

const keygenUsage = `usage: socketx keygen FILE        write a new server authentication key to FILE (mode 0600)
       socketx keygen -show FILE  print the pin of an existing key file

The key is an ML-KEM-768 key (docs/PROTOCOL.md §6.1). FILE is what
MTE_SERVER_KEY_FILES takes; never share it. The pin printed on stdout is
public: give the key id and public key to clients (Go SDK:
client.Options.ServerKeys; TypeScript SDK: the serverKeys option).
`

// keygen runs `socketx keygen`. It never prints the private key, and
// refuses to overwrite an existing file. Its help goes to stdout (exit 0),
// a usage mistake to stderr (exit 2).
func keygen(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] != "" && args[0][0] != '-':
		k, err := mte.GenerateServerPrivateKey(rand.Reader)
		if err != nil {
			fmt.Fprintf(stderr, "socketx keygen: %v\n", err)
			return 1
		}
		if err := writeKeyFile(args[0], k.MarshalPEM()); err != nil {
			fmt.Fprintf(stderr, "socketx keygen: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote server key %s to %s (mode 0600)\n", k.ID(), args[0])
		printPin(stdout, k.Public())
		return 0
	case len(args) == 2 && args[0] == "-show":
		data, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "socketx keygen: %v\n", err)
			return 1
		}
		k, err := mte.ParseServerPrivateKey(data)
		clear(data)
		if err != nil {
			fmt.Fprintf(stderr, "socketx keygen: %s: %v\n", args[1], err)
			return 1
		}
		printPin(stdout, k.Public())
		return 0
	}
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Fprint(stdout, keygenUsage)
		return 0
	case len(args) == 0:
		return usageError(stderr, "socketx keygen", "missing FILE")
	case args[0] == "-show" && len(args) == 1:
		return usageError(stderr, "socketx keygen", "-show: missing FILE")
	case args[0] == "-show":
		return usageError(stderr, "socketx keygen", argProblem(args[2]))
	case args[0] == "" || args[0][0] == '-':
		return usageError(stderr, "socketx keygen", argProblem(args[0]))
	}
	return usageError(stderr, "socketx keygen", argProblem(args[1]))
}

// printPin prints a key's pin: its key ID and base64 public key.
func printPin(w io.Writer, pub mte.ServerPublicKey) {
	fmt.Fprintf(w, "key id: %s\npublic key: %s\n", pub.ID(), pub)
}

// writeKeyFile creates path with mode 0600; an existing file is an error.
func writeKeyFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: not overwriting a key", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
