import subprocess
import sys
r = subprocess.run([sys.executable, "-c", "import sys; print('child', sys.argv); sys.exit(4)", "x"],
                   capture_output=True, text=True)
print(repr(r.stdout), repr(r.stderr), r.returncode)
r = subprocess.run([sys.executable, "-c", "raise SystemExit('bye')"], capture_output=True, text=True)
print(repr(r.stdout), repr(r.stderr), r.returncode)
