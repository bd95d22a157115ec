"""Institution files -> typed model: names, validation problems, JSON Schema, add-company."""
