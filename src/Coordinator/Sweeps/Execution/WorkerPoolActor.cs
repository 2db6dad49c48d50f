using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DeepGen.Distributed.Messages;

namespace DeepGen.Distributed.Coordinator.Sweeps.Execution;

/// <summary>Asks for the worker of a slot; the reply is <see cref="PooledWorker"/>, or <see cref="Status.Failure"/> when the slot is lost.</summary>
public sealed record GetSlotWorker(int Slot);

/// <summary>The worker node that serves a slot.</summary>
public sealed record PooledWorker(int Slot, IActorRef Worker, RegisterWorker Registration);

/// <summary>Requests a reply, <see cref="PoolReady"/>, once <paramref name="Count"/> workers have registered.</summary>
public sealed record AwaitWorkers(int Count);

/// <summary>Reply to <see cref="AwaitWorkers"/>.</summary>
public sealed record PoolReady(int Workers);

/// <summary>Report each lost slot to <paramref name="Scheduler"/> as <see cref="WorkerSlotLost"/>.</summary>
public sealed record SubscribeSlotLoss(IActorRef Scheduler);

/// <summary>
/// The sweep's registry of worker nodes, at the path where workers register with a coordinator.
/// Each worker that registers becomes slot 0, 1, …, up to the sweep's slot count; a trial's
/// coordinator gets the workers of its slots. When a worker's node is lost, its slot is gone for
/// good and the scheduler receives <see cref="WorkerSlotLost"/>, so the sweep's capacity shrinks.
/// </summary>
public sealed class WorkerPoolActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly int _capacity;
    private readonly List<PooledWorker> _slots = [];
    private readonly HashSet<int> _lost = [];
    private readonly List<(IActorRef Asker, int Count)> _waiting = [];
    private IActorRef _scheduler = ActorRefs.Nobody;

    public WorkerPoolActor(int capacity)
    {
        _capacity = capacity;
        Receive<RegisterWorker>(Register);
        Receive<AwaitWorkers>(request =>
        {
            _waiting.Add((Sender, request.Count));
            AnswerWaiting();
        });
        Receive<GetSlotWorker>(request =>
        {
            if (request.Slot < _slots.Count && !_lost.Contains(request.Slot))
            {
                Sender.Tell(_slots[request.Slot]);
            }
            else
            {
                Sender.Tell(new Status.Failure(new InvalidOperationException($"worker slot {request.Slot} has no live worker")));
            }
        });
        Receive<SubscribeSlotLoss>(subscribe =>
        {
            _scheduler = subscribe.Scheduler;
            foreach (var slot in _lost)
            {
                _scheduler.Tell(new WorkerSlotLost(slot, "its worker was lost before the sweep started"));
            }
        });
        Receive<Terminated>(terminated => Lose(s => s.Worker.Equals(terminated.ActorRef), "its worker actor stopped"));
        Receive<ClusterEvent.UnreachableMember>(unreachable => Lose(s => s.Worker.Path.Address == unreachable.Member.Address, "its node became unreachable"));
        Receive<ClusterEvent.MemberRemoved>(removed => Lose(s => s.Worker.Path.Address == removed.Member.Address, "its node left the cluster"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public static Props Props(int capacity) => Akka.Actor.Props.Create(() => new WorkerPoolActor(capacity));

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void Register(RegisterWorker registration)
    {
        var known = _slots.FindIndex(s => s.Worker.Equals(Sender));
        if (known >= 0)
        {
            Sender.Tell(new WorkerAccepted(registration.WorkerId));
            return;
        }

        if (_slots.Count >= _capacity)
        {
            Sender.Tell(new WorkerNotNeeded(registration.WorkerId, $"the sweep uses {_capacity} worker slots and all are taken"));
            return;
        }

        var slot = new PooledWorker(_slots.Count, Sender, registration);
        _slots.Add(slot);
        Context.Watch(Sender);
        Sender.Tell(new WorkerAccepted(registration.WorkerId));
        _log.Info("Worker {WorkerId} ({Endpoint}) serves slot {Slot}", registration.WorkerId, registration.DataPlane, slot.Slot);
        AnswerWaiting();
    }

    private void AnswerWaiting()
    {
        var live = _slots.Count - _lost.Count;
        foreach (var waiting in _waiting.Where(w => live >= w.Count).ToList())
        {
            waiting.Asker.Tell(new PoolReady(live));
            _waiting.Remove(waiting);
        }
    }

    private void Lose(Func<PooledWorker, bool> match, string reason)
    {
        foreach (var slot in _slots.Where(match).Where(s => _lost.Add(s.Slot)))
        {
            _log.Warning("Worker slot {Slot} ({WorkerId}) is lost because {Reason}", slot.Slot, slot.Registration.WorkerId, reason);
            _scheduler.Tell(new WorkerSlotLost(slot.Slot, $"{slot.Registration.WorkerId} {reason}"));
        }
    }
}
