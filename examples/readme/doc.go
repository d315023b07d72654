// Command readme is the ten-line Go example of README.md, kept here so that
// it compiles: readme_test.go checks that main.go is exactly the README's
// program.
package main
