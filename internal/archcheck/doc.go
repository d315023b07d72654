// Package archcheck holds no code, only tests that keep the module's
// architecture what docs/ARCHITECTURE.md says it is:
//
//   - every import between two packages of this module, in code and in
//     tests, is an edge of the import table in docs/ARCHITECTURE.md, and
//     every edge of the table is still used (so the table stays the map a
//     newcomer can trust);
//   - every package, commands and internal ones included, has a package doc
//     comment that starts "Package <name>" (or "Command <name>" for a main
//     package).
//
// The tests read the source tree with go/parser (no go command, no
// network). Every file counts, whatever its build constraints. Imports of
// the standard library and third-party modules are not checked, and
// third_party/gnet, a third-party module, is skipped; the nested modules
// client and mte are part of the tree. modules_test.go checks that those
// two require only what they use (docs/ARCHITECTURE.md, "Modules").
//
// A failure names the edge and the file that imports it. To add an edge,
// add the package to the row of the importing package (column "Imports"
// for code, "Tests also import" for _test.go files only); to remove one,
// delete it there.
package archcheck
