"""The `tutormail` command: parser, commands, views."""
