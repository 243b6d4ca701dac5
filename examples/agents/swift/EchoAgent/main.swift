// A Drover process agent in Swift: echoes each task's input and counts the tasks it has
// answered, checkpointing the count so that a restart (here or on another node) goes on
// counting where it stopped.
//
//   swift build --product swift-echo-agent
//   drover node ... --agent-type swift_echo=process:.build/debug/swift-echo-agent
import DroverAgentKit

await AgentRuntime.run(onShutdown: { context in
    context.log("echo agent \(context.agentID) shutting down at count \(context.state?["count"]?.intValue ?? 0)")
}) { context, task in
    let count = (context.state?["count"]?.intValue ?? 0) + 1
    context.checkpoint(["count": .int(count)])
    if task.input["fail"]?.boolValue == true {
        throw AgentTaskError("asked to fail (input.fail is true)")
    }
    return ["echo": task.input, "count": .int(count), "agent_id": .string(context.agentID)]
}
