"""Files: the user's files and labelled data read, every write made safe, bundled assets."""
