"""The first script to run under hivebox: says hello and shows where it is."""
import os
import sys

print("hello", " ".join(sys.argv[1:]) or "world")
print("pid", os.getpid(), "uid", os.getuid(), "host", os.uname().nodename)
print("root holds", sorted(os.listdir("/")))
