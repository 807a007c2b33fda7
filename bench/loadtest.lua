-- The readers of `manage.py loadtest` (bench/management/commands/loadtest.py), a script for wrk.
--
-- wrk runs one thread per connection (-t equal to -c), so each thread has exactly one request in flight and
-- response() always answers the request() just before it: that is how an answer is matched with what was asked.
--
-- The command writes the requests to send as a Lua file (a table of paths per kind of request, the conditional
-- reads with the ETag they start from, the weight of each kind and the Host header) and passes its path as the
-- script's only argument. Each request picks a kind by weight and a path of that kind at random.
--
-- A conditional read sends If-None-Match with the ETag this thread holds for its path. 304 is the expected
-- answer; a 200 is right only when the data changed meanwhile (a curator wrote), so it must carry another ETag,
-- which the thread keeps and sends at once in its next request, as a client revalidating the copy it just got
-- (the curators write about once a second, so without that most reads would come after a write). A 200 with the
-- same ETag is a 304 the server failed to give, an error. Any other read must be a 200.
--
-- done() prints exact counts and latency percentiles as "loadtest <name> <value>" lines for the command to read.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("number", #threads)
end

function init(args)
   data = dofile(args[1])
   math.randomseed(number * 7919 + os.time())
   headers = {
      ["Host"] = data.host,
      ["Accept"] = "application/json",
      ["Accept-Encoding"] = "gzip",
   }
   -- Own copies of the ETags: each thread learns the new ones by itself.
   conditional = {}
   for index, read in ipairs(data.conditional) do
      conditional[index] = { path = read.path, etag = read.etag }
   end
   kinds, total_weight = {}, 0
   for _, kind in ipairs(data.kinds) do
      if kind.name == "conditional" or #data.paths[kind.name] > 0 then
         table.insert(kinds, kind)
         total_weight = total_weight + kind.weight
      end
   end
   -- What this thread saw; done() reads these through thread:get().
   sent, statuses, not_modified, renewed, unmodified_200 = {}, {}, 0, 0, 0
end

local function pick_kind()
   local ticket = math.random() * total_weight
   for _, kind in ipairs(kinds) do
      ticket = ticket - kind.weight
      if ticket <= 0 then
         return kind.name
      end
   end
   return kinds[#kinds].name
end

local asked, asked_read, revalidate

function request()
   asked = revalidate and "conditional" or pick_kind()
   sent[asked] = (sent[asked] or 0) + 1
   if asked == "conditional" then
      asked_read = revalidate or conditional[math.random(#conditional)]
      revalidate = nil
      local conditional_headers = { ["If-None-Match"] = asked_read.etag }
      for name, value in pairs(headers) do
         conditional_headers[name] = value
      end
      return wrk.format("GET", asked_read.path, conditional_headers)
   end
   local paths = data.paths[asked]
   return wrk.format("GET", paths[math.random(#paths)], headers)
end

function response(status, response_headers, body)
   local key = tostring(status)
   if asked == "conditional" then
      if status == 304 then
         not_modified = not_modified + 1
      elseif status == 200 then
         local etag = response_headers["ETag"] or response_headers["etag"]
         if etag and etag ~= asked_read.etag then
            renewed = renewed + 1
            asked_read.etag = etag
            revalidate = asked_read
         else
            unmodified_200 = unmodified_200 + 1
         end
      end
   end
   statuses[key] = (statuses[key] or 0) + 1
end

local function add(into, from)
   for name, count in pairs(from) do
      into[name] = (into[name] or 0) + count
   end
end

local function line(name, value)
   io.write(string.format("loadtest %s %s\n", name, tostring(value)))
end

function done(summary, latency, requests)
   local all_sent, all_statuses = {}, {}
   local all_not_modified, all_renewed, all_unmodified_200 = 0, 0, 0
   for _, thread in ipairs(threads) do
      add(all_sent, thread:get("sent"))
      add(all_statuses, thread:get("statuses"))
      all_not_modified = all_not_modified + thread:get("not_modified")
      all_renewed = all_renewed + thread:get("renewed")
      all_unmodified_200 = all_unmodified_200 + thread:get("unmodified_200")
   end
   line("requests", summary.requests)
   line("duration_us", summary.duration)
   line("errors_connect", summary.errors.connect)
   line("errors_read", summary.errors.read)
   line("errors_write", summary.errors.write)
   line("errors_timeout", summary.errors.timeout)
   for name, count in pairs(all_statuses) do
      line("status_" .. name, count)
   end
   for name, count in pairs(all_sent) do
      line("sent_" .. name, count)
   end
   line("conditional_304", all_not_modified)
   line("conditional_renewed", all_renewed)
   line("conditional_200_same_etag", all_unmodified_200)
   for _, percent in ipairs({ 50, 95, 99 }) do
      line("latency_p" .. percent .. "_us", latency:percentile(percent))
   end
   line("latency_max_us", latency.max)
end
