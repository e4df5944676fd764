-- wrk script: order placement with a fresh Idempotency-Key per request (driven by loadtest/bench.py).
--   WRK_CARTS=carts.tsv WRK_RESULTS=results.txt wrk -s loadtest/orders.lua ...
-- carts.tsv holds one "bearer-token<TAB>json-body" line per cart. Each thread cycles through the carts from
-- its own offset. Every 201 answer's order id is written to WRK_RESULTS (one per line), then a line per
-- other status ("status <code> <count>"), so the run can be checked against the database afterwards.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_no", thread_count)
   table.insert(threads, thread)
end

function init(args)
   carts = {}
   for line in io.lines(os.getenv("WRK_CARTS")) do
      local token, body = line:match("^([^\t]+)\t(.+)$")
      table.insert(carts, {token = token, body = body})
   end
   run_tag = os.getenv("WRK_RUN_TAG") or "run"
   sent = 0
   ids = {}
   failures = {}
end

function request()
   sent = sent + 1
   local cart = carts[(sent + thread_no * 7) % #carts + 1]
   local headers = {
      ["Authorization"] = "Bearer " .. cart.token,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("%s-%d-%d", run_tag, thread_no, sent),
   }
   return wrk.format("POST", "/api/v1/orders/from-cart", headers, cart.body)
end

function response(status, headers, body)
   if status == 201 then
      table.insert(ids, body:match('"id":"([%x%-]+)"'))
   else
      failures[status] = (failures[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local out = io.open(os.getenv("WRK_RESULTS"), "w")
   for _, thread in ipairs(threads) do
      for _, id in ipairs(thread:get("ids")) do out:write(id, "\n") end
      for status, count in pairs(thread:get("failures")) do out:write("status ", status, " ", count, "\n") end
   end
   for _, p in ipairs({50, 90, 95, 99}) do
      out:write(string.format("latency p%d %.3f\n", p, latency:percentile(p) / 1000))
   end
   out:close()
end
