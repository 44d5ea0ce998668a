# Deterministic small data sets for the regression comparison.
import numpy as np, sys
out = sys.argv[1]
r = np.random.default_rng(7)
n = 3000
lab = r.integers(0, 2, n); dom = r.integers(0, 2, n)
x = r.normal(size=(n, 6)) + lab[:, None] * 0.8 + dom[:, None] * 0.3
with open(out + "/dann.csv", "w") as f:
    f.write("x0,x1,x2,x3,x4,x5,label,domain,w,w_up,w_down\n")
    for i in range(n):
        w = 0.5 + (i % 7) / 7
        f.write(",".join(f"{v:.6f}" for v in x[i]) + f",{lab[i]},{dom[i]},{w:.4f},{w*1.1:.4f},{w*0.9:.4f}\n")
proc = r.integers(0, 3, n); model = r.integers(0, 3, n)
x = r.normal(size=(n, 5)) + proc[:, None] * 0.7 + (proc == 2)[:, None] * model[:, None] * 0.4
with open(out + "/adnn.csv", "w") as f:
    f.write("x0,x1,x2,x3,x4,process,model\n")
    names = ["bkg", "ggh", "sig"]; models = ["sm", "bsm1", "bsm2"]
    for i in range(n):
        f.write(",".join(f"{v:.6f}" for v in x[i]) + f",{names[proc[i]]},{models[model[i]]}\n")
xc = r.uniform(0, 1, n); xs = r.normal(xc * 2, 0.3 + 0.2 * xc)
with open(out + "/cgan.csv", "w") as f:
    f.write("xs,xc\n")
    for i in range(n):
        f.write(f"{xs[i]:.6f},{xc[i]:.6f}\n")
