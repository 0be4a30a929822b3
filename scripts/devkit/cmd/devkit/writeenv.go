package main

import (
	"errors"
	"flag"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/localenv"
)

// runWriteEnv writes the named variables of the environment to -file.
// Taking values from the environment keeps tokens off command lines.
func runWriteEnv(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("devkit write-env", flag.ContinueOnError)
	file := fs.String("file", "", "the local environment file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || fs.NArg() == 0 {
		return errors.New("usage: devkit write-env -file FILE NAME [NAME ...]")
	}
	env := localenv.Env{}
	for _, n := range fs.Args() {
		env[n] = getenv(n)
	}
	return localenv.Write(*file, "The local stack scripts/dev runs, written "+time.Now().UTC().Format(time.RFC3339)+
		".\nRead by scripts/stack env, sendload, scripts/invoke, scripts/admin and scripts/listen; do not edit.", env)
}
