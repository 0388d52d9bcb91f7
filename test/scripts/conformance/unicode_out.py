import sys
print("héllo wörld ✓ 漢字", sys.stdout.encoding, sys.getfilesystemencoding())
sys.stderr.write("stderr ünïcode\n")
