"""subprocess_heavy: a command started once per item instead of once."""
import subprocess


def main():
    n = 0
    for i in range(30):
        n += len(subprocess.run(["echo", str(i)], capture_output=True).stdout)
    print(n)


if __name__ == "__main__":
    main()
