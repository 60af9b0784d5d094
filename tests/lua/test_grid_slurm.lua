-- The Slurm path of a grid: scripts/slurm_grid_test.sh starts munged,
-- slurmctld and slurmd on this machine, runs tests/lua/grid_tiny.lua as a
-- job array of two shards, merges and checks the table, and stops the
-- daemons. It exits 77 when Slurm or root is missing: then this is skipped.
test("a tiny grid as a Slurm job array, merged", function()
  local script = harness.dir .. "/../../scripts/slurm_grid_test.sh"
  local p = io.popen("bash " .. script .. " " .. harness.interpreter .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  if rc == 77 then skip(out:match("slurm test skipped: ([^\n]*)")) end
  check.eq(rc, 0, "slurm_grid_test.sh:\n" .. out)
  check.contains(out, "slurm test passed: 2 array tasks, 8 configurations merged")
  check.contains(out, "rank,id,batch,lr,epochs,seed,status,best_epoch,epochs_run,train_time,"
                 .. "val_loss,val_acc")
  check.truthy(out:find("\n1,batch16%-lr0%.005%-epochs3%-%x%x%x%x%x%x%x%x,16,0%.005,3,7,done,3,3,"),
               "the best row: " .. out)
end)
