import multiprocessing as mp
import sys

def sq(x):
    return x * x

if __name__ == "__main__":
    method = sys.argv[1]
    ctx = mp.get_context(method)
    with ctx.Pool(2) as p:
        print(method, p.map(sq, range(10)))
    q = ctx.Queue()
    pr = ctx.Process(target=q.put, args=("from child",))
    pr.start()
    print(q.get())
    pr.join()
    print("exitcode", pr.exitcode)
