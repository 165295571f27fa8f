"""The ``vigie`` command line: the commands people type, built on flows, db and parsers."""
